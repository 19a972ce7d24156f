-- One row per user seen in sessions or registrations (some users registered without a tracked session).

with sessions as (

    select * from {{ ref('stg_sessions') }}

),

registrations as (

    select * from {{ ref('stg_conversions') }}

),

users as (

    select userid from sessions
    union
    select userid from registrations

),

session_stats as (

    select
        userid,
        min(time_started) as first_session_at,
        max(time_started) as last_session_at,
        count(*) as session_count
    from sessions
    group by userid

),

first_sessions as (

    select distinct on (userid)
        userid,
        channel as first_session_channel
    from sessions
    order by userid, time_started, session_id

)

select
    md5(cast(users.userid as text)) as user_key,
    users.userid,
    session_stats.first_session_at,
    session_stats.last_session_at,
    first_sessions.first_session_channel,
    coalesce(session_stats.session_count, 0) as session_count,
    registrations.registration_time,
    registrations.registration_time is not null as is_registered
from users
left join session_stats on session_stats.userid = users.userid
left join first_sessions on first_sessions.userid = users.userid
left join registrations on registrations.userid = users.userid
