-- Every attributed session must belong to the registering user, carry the credited channel, and have
-- begun inside that channel's window before the registration; 'other' carries no session.
-- Each returned row is a failure.

select
    attribution.registration_id,
    attribution.attributed_channel,
    attribution.attributed_session_id,
    attribution.minutes_from_session_to_registration
from {{ ref('mart_channel_attribution') }} as attribution
inner join {{ ref('dim_channel') }} as channels
    on channels.channel_key = attribution.channel_key
left join {{ ref('fact_sessions') }} as sessions
    on sessions.session_id = attribution.attributed_session_id
where
    (channels.attribution_window_hours is null and attribution.attributed_session_id is not null)
    or (
        channels.attribution_window_hours is not null
        and (
            sessions.session_id is null
            or sessions.user_key <> attribution.user_key
            or sessions.channel_key <> attribution.channel_key
            or attribution.minutes_from_session_to_registration < 0
            or attribution.minutes_from_session_to_registration > channels.attribution_window_hours * 60
        )
    )
