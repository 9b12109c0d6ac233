"""Admission: defaulting and validation of objects before they are stored."""
