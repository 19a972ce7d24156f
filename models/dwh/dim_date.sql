-- A calendar: one row per day from the first to the last day seen in sessions or registrations.

with bounds as (

    select
        cast(least(
            (select min(time_started) from {{ ref('stg_sessions') }}),
            (select min(registration_time) from {{ ref('stg_conversions') }})
        ) as date) as first_day,
        cast(greatest(
            (select max(time_started) from {{ ref('stg_sessions') }}),
            (select max(registration_time) from {{ ref('stg_conversions') }})
        ) as date) as last_day

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
