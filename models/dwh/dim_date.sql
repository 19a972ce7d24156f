-- A calendar: one row per day from the first to the last day seen in sessions or registrations.

with session_bounds as (

    select min(time_started) as first_at, max(time_started) as last_at
    from {{ ref('stg_sessions') }}

),

registration_bounds as (

    select min(registration_time) as first_at, max(registration_time) as last_at
    from {{ ref('stg_conversions') }}

),

bounds as (

    select
        cast(least(session_bounds.first_at, registration_bounds.first_at) as date) as first_day,
        cast(greatest(session_bounds.last_at, registration_bounds.last_at) as date) as last_day
    from session_bounds
    cross join registration_bounds

),

days as (

    select first_day + day_offset as date_day
    from bounds
    cross join generate_series(0, last_day - first_day) as day_offset

)

select
    cast(to_char(date_day, 'YYYYMMDD') as integer) as date_key,
    date_day,
    cast(extract(year from date_day) as integer) as year,
    cast(extract(quarter from date_day) as integer) as quarter,
    cast(extract(month from date_day) as integer) as month,
    to_char(date_day, 'FMMonth') as month_name,
    cast(date_trunc('month', date_day) as date) as month_start,
    cast(extract(week from date_day) as integer) as iso_week,
    cast(extract(isodow from date_day) as integer) as day_of_week,
    to_char(date_day, 'FMDay') as day_name,
    extract(isodow from date_day) in (6, 7) as is_weekend
from days
