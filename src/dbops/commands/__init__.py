"""What each task does, as functions that return results; entry points only parse arguments."""
