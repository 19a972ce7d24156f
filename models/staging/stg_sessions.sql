-- One row per real session: the raw tracker export, typed and normalised, with duplicate rows removed.
-- A session is identified by its user and start time; the raw export repeats some rows (tracker retries).

with sessions as (

    select
        cast(userid as bigint) as userid,
        cast(time_started as timestamp) as time_started,
        cast(is_paid as boolean) as is_paid,
        nullif(lower(trim(cast(medium as text))), '') as medium
    from {{ ref('sessions') }}

),

numbered as (

    select
        *,
        row_number() over (
            partition by userid, time_started
            order by is_paid desc, medium
        ) as copy_number
    from sessions

)

select
    md5(cast(userid as text) || '-' || to_char(time_started, 'YYYY-MM-DD HH24:MI:SS.US')) as session_id,
    userid,
    time_started,
    is_paid,
    medium,
    {{ channel_for('is_paid', 'medium') }} as channel
from numbered
where copy_number = 1
