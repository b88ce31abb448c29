"""The engine: composition root, config, data, ARI/AMI clients, router, call control and API."""
