"""Wire formats: HTTP request decoding and answer encoding, protobuf, Tables, OpenAPI, discovery."""
