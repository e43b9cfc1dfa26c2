"""The dev server and the watcher behind it."""
