"""lexflow's command line and the glue that runs `pipeline.create_pipeline` locally."""
