"""pyinfra deploys for public PCs (patron kiosks): one ``@deploy`` per concern."""
