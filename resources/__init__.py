"""Resources that are generated rather than shipped: the demo-data generator."""
