"""Writing to the storage tables (the producers' side). Their DDL lives in the dbt package."""
