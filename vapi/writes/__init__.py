"""How a write changes an object: patches, field ownership and server-side apply."""
