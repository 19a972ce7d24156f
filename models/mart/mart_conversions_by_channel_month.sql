-- Registrations per attributed channel and calendar month, with every channel listed for every month
-- covered by dim_date (zero when nothing was credited to it).

with attributed as (

    select * from {{ ref('mart_channel_attribution') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

months as (

    select distinct month_start
    from dates

),

channels as (

    select channel_key, channel_name, attribution_priority
    from {{ ref('dim_channel') }}

),

counts as (

    select
        dates.month_start,
        attributed.channel_key,
        count(*) as conversions
    from attributed
    inner join dates
        on dates.date_key = attributed.date_key
    group by dates.month_start, attributed.channel_key

),

filled as (

    select
        months.month_start,
        channels.channel_name,
        channels.attribution_priority,
        coalesce(counts.conversions, 0) as conversions
    from months
    cross join channels
    left join counts
        on counts.month_start = months.month_start
        and counts.channel_key = channels.channel_key

)

select
    month_start,
    channel_name,
    attribution_priority,
    conversions,
    round(100.0 * conversions / nullif(sum(conversions) over (partition by month_start), 0), 1)
        as share_of_month_pct
from filled
