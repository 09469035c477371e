"""What the gateway reports about itself: Prometheus metrics, the scrape-time collector and the
drift gauge."""
