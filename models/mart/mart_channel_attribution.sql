-- One row per registration, credited to exactly one channel by the attribution rule (models/docs.md).
-- The channel priorities and look-back windows come from dim_channel.

with registrations as (

    select * from {{ ref('fact_registrations') }}

),

sessions as (

    select * from {{ ref('fact_sessions') }}

),

channels as (

    select * from {{ ref('dim_channel') }}

),

candidates as (

    -- every session that began inside its channel's window before the same user's registration
    select
        registrations.registration_id,
        sessions.session_id,
        sessions.time_started,
        channels.channel_key,
        channels.channel_name,
        channels.attribution_priority
    from registrations
    inner join sessions
        on sessions.user_key = registrations.user_key
        and sessions.time_started <= registrations.registration_time
    inner join channels
        on channels.channel_key = sessions.channel_key
    where channels.attribution_window_hours is not null
        and sessions.time_started >= registrations.registration_time
            - make_interval(hours => channels.attribution_window_hours)

),

ranked as (

    select
        *,
        row_number() over (
            partition by registration_id
            order by attribution_priority, time_started desc, session_id
        ) as candidate_rank
    from candidates

),

fallback as (

    select channel_key, channel_name
    from channels
    where channel_name = 'other'

)

select
    registrations.registration_id,
    registrations.user_key,
    registrations.date_key,
    registrations.userid,
    registrations.registration_time,
    coalesce(ranked.channel_key, fallback.channel_key) as channel_key,
    coalesce(ranked.channel_name, fallback.channel_name) as attributed_channel,
    ranked.session_id as attributed_session_id,
    ranked.time_started as attributed_session_started_at,
    cast(extract(epoch from registrations.registration_time - ranked.time_started) / 60 as integer)
        as minutes_from_session_to_registration
from registrations
cross join fallback
left join ranked
    on ranked.registration_id = registrations.registration_id
    and ranked.candidate_rank = 1
