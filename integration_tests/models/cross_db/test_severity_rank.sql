select
    severity,
    expected_rank,
    {{ profilemesh.severity_rank('severity') }} as actual_rank,
    {{ profilemesh.severity_from_rank('expected_rank') }} as actual_severity
from {{ ref('data_severities') }}
