select * from {{ ref('profilemesh_table_history_v') }}
