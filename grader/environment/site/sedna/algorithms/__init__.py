"""Algorithm descriptors: aggregation, client choosing, model transmission."""
