"""Jobs and the asset selections they run: one place for what runs together.

Kept apart from definitions.py so that sensors can name the job they request
(a run status sensor needs its target job object, not a name).
"""

import dagster as dg

# Every asset whose partitions are snapshots: all but the event table.
SNAPSHOTS = dg.AssetSelection.all() - dg.AssetSelection.assets("raw_ratings")

# Minutes of cross-validated search: weekly, not daily (the daily run stays within seconds).
WEEKLY_ASSETS = ("svd_tuning", "model_metrics")
EVALUATION = dg.AssetSelection.assets(*WEEKLY_ASSETS)

# What a new day refreshes once its ratings are in: the snapshots, less the weekly evaluation.
DAILY_SNAPSHOTS = SNAPSHOTS - EVALUATION

movie_graph = dg.define_asset_job(
    "movie_graph",
    selection=dg.AssetSelection.all() - EVALUATION,
    description="One day: that day's ratings and every snapshot as of it, trained with the "
    "newest weekly tuning.",
)
model_evaluation = dg.define_asset_job(
    "model_evaluation",
    selection=EVALUATION,
    description="Hyper-parameter searches and the models' metrics as of one day.",
)
# The clean and feature layers and the raw snapshots they read, published for the app's
# time travel; the ratings history is loaded already (one range run) and the model layer
# is left out (minutes per day), so the app shows it empty for those days.
FEATURE_LAYERS = dg.AssetSelection.groups("clean", "features").upstream()
FEATURE_HISTORY = (FEATURE_LAYERS - dg.AssetSelection.assets("raw_ratings")) | (
    dg.AssetSelection.assets("dashboard_snapshot")
)
feature_history = dg.define_asset_job(
    "feature_history",
    selection=FEATURE_HISTORY,
    description="Optional, not in the build: the feature layer as of chosen days, such as "
    "month ends, one run per day, each published for the app's day picker "
    "(docs/partitions.md, 'Snapshots through time').",
)
ratings_history = dg.define_asset_job(
    "ratings_history",
    selection=dg.AssetSelection.assets("raw_ratings"),
    description="Raw ratings over a range of days, one step (single-run backfill).",
)
