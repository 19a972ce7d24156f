{{
    config(
        materialized='incremental',
        unique_key='registration_id'
    )
}}
-- One row per registration, with keys to the user and date dimensions. Incremental: a run after the first
-- one only inserts registrations newer than the newest already loaded (registrations are never updated).

with registrations as (

    select * from {{ ref('stg_conversions') }}
    {% if is_incremental() %}
    where registration_time > (select max(registration_time) from {{ this }})
    {% endif %}

),

earlier_sessions as (

    select
        registrations.registration_id,
        count(sessions.session_id) as sessions_before_registration,
        min(sessions.time_started) as first_session_at
    from registrations
    left join {{ ref('stg_sessions') }} as sessions
        on sessions.userid = registrations.userid
        and sessions.time_started <= registrations.registration_time
    group by registrations.registration_id

)

select
    registrations.registration_id,
    dim_user.user_key,
    dim_date.date_key,
    registrations.userid,
    registrations.registration_time,
    earlier_sessions.sessions_before_registration,
    round(cast(extract(epoch from registrations.registration_time - earlier_sessions.first_session_at) / 3600 as numeric), 2)
        as hours_since_first_session
from registrations
inner join earlier_sessions
    on earlier_sessions.registration_id = registrations.registration_id
left join {{ ref('dim_user') }} as dim_user
    on dim_user.userid = registrations.userid
left join {{ ref('dim_date') }} as dim_date
    on dim_date.date_day = cast(registrations.registration_time as date)
