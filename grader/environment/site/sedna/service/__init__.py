"""Long-running services (only the federated-learning aggregator exists here)."""
