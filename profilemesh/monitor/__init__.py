"""Metadata monitoring (`profilemesh monitor`): freshness and volume of whole schemas from the
warehouse's catalog, without scanning a table."""
