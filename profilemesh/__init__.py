"""ProfileMesh: data profiling and drift detection with a versioned storage layer in your warehouse."""

__version__ = "0.1.0"
