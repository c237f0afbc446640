select * from {{ ref('profilemesh_drift_v') }}
