"""Movie analytics asset graph: MovieLens ratings, Wikidata films and BLS CPI in DuckDB."""
