select id from {{ ref("stg") }}
