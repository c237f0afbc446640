select * from {{ ref('profilemesh_latest_metrics_v') }}
