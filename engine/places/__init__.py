"""The place registry: the campus tree, its configuration, import and export, service periods."""
