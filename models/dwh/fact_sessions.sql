-- One row per (deduplicated) session, with keys to the user, channel and date dimensions.

with sessions as (

    select * from {{ ref('stg_sessions') }}

)

select
    sessions.session_id,
    dim_user.user_key,
    dim_channel.channel_key,
    dim_date.date_key,
    sessions.userid,
    sessions.time_started,
    sessions.is_paid,
    sessions.medium
from sessions
left join {{ ref('dim_user') }} as dim_user
    on dim_user.userid = sessions.userid
left join {{ ref('dim_channel') }} as dim_channel
    on dim_channel.channel_name = sessions.channel
left join {{ ref('dim_date') }} as dim_date
    on dim_date.date_day = cast(sessions.time_started as date)
