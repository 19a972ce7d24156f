-- The marketing channels, with the priority and look-back window the attribution rule gives each.
-- The channel names are the ones the channel_for() macro returns in stg_sessions.

with channels (channel_name, attribution_priority, attribution_window_hours, is_paid, description) as (

    values
        ('paid_search', 1, 3, true, 'Paid search ads'),
        ('paid_impression', 2, 1, true, 'Paid non-search placements: display banners, sponsored social posts'),
        ('organic_search', 3, 12, false, 'Unpaid search results'),
        ('direct', 4, 24, false, 'Visits with no medium: typed URL, bookmark'),
        ('other', 5, null, false, 'Everything else: email, referral and organic social visits')

)

select
    md5(channel_name) as channel_key,
    cast(channel_name as text) as channel_name,
    cast(attribution_priority as integer) as attribution_priority,
    cast(attribution_window_hours as integer) as attribution_window_hours,
    cast(is_paid as boolean) as is_paid,
    cast(description as text) as description
from channels
