-- One row per registered user: the raw registrations, typed, keeping a user's first registration only.

with conversions as (

    select
        cast(userid as bigint) as userid,
        cast(registration_time as timestamp) as registration_time
    from {{ ref('conversions') }}

),

numbered as (

    select
        *,
        row_number() over (partition by userid order by registration_time) as registration_number
    from conversions

)

select
    md5(cast(userid as text) || '-' || to_char(registration_time, 'YYYY-MM-DD HH24:MI:SS.US')) as registration_id,
    userid,
    registration_time
from numbered
where registration_number = 1
