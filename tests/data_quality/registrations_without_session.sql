{{ config(severity='warn') }}
-- Raw-data flaw: registrations by users with no tracked session at or before the registration time.
-- Each returned row is a failure. Severity warn: the flaw is reported, not fatal; the attribution mart
-- credits such registrations to 'other'.

select
    conversions.userid,
    conversions.registration_time
from {{ ref('conversions') }} as conversions
where not exists (
    select 1
    from {{ ref('sessions') }} as sessions
    where sessions.userid = conversions.userid
        and sessions.time_started <= conversions.registration_time
)
