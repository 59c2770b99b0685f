"""Source readers behind one interface; downstream assets never know which one ran."""
