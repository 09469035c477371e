"""TF Serving's gRPC API (PredictionService + ModelService), served from the gateway process."""
