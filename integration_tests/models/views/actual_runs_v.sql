select * from {{ ref('profilemesh_runs_v') }}
