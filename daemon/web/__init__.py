"""The web desk."""
