select
    input,
    expected,
    {{ profilemesh.safe_cast_float('input') }} as actual
from {{ ref('data_safe_cast_float') }}
