"""One translator per synced kind (see `syncer.Translator`)."""
