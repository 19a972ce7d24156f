select {{ cents_to_dollars('100') }} as amount
