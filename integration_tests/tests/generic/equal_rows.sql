{#- The model's rows equal the expected relation's, on the given columns (as a multiset is not
    needed here: the keys are unique). Each difference is one failing row: `missing` (expected, not
    produced) or `unexpected` (produced, not expected). EXCEPT is set difference on every warehouse
    the package supports. -#}
{% test equal_rows(model, expected, columns) %}
  {%- set listed = columns | join(', ') -%}
  with actual_rows as (
      select {{ listed }} from {{ model }}
  ),
  expected_rows as (
      select {{ listed }} from {{ expected }}
  ),
  missing as (
      select * from expected_rows
      except
      select * from actual_rows
  ),
  unexpected as (
      select * from actual_rows
      except
      select * from expected_rows
  )
  select 'missing' as difference, missing.* from missing
  union all
  select 'unexpected' as difference, unexpected.* from unexpected
{% endtest %}
