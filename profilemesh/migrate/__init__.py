"""Migrating the store: status and history (the ledger, without dbt), apply and repair (the dbt
package's engine), validate (the live catalog against the code), unlock, and the query views' build.
Programs call these through profilemesh.api."""
