"""Live tests against the Docker Compose stack (`make up`); they skip when it is not reachable."""
