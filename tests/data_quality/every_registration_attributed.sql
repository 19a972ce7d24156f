-- The attribution mart must credit every registration in the fact table exactly once.
-- Each returned row is a failure.

select
    registrations.registration_id,
    count(attribution.registration_id) as times_credited
from {{ ref('fact_registrations') }} as registrations
left join {{ ref('mart_channel_attribution') }} as attribution
    on attribution.registration_id = registrations.registration_id
group by registrations.registration_id
having count(attribution.registration_id) <> 1
