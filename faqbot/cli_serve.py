"""`faqbot serve`: run the HTTP API with uvicorn."""
