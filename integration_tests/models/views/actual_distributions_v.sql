select * from {{ ref('profilemesh_distributions_v') }}
