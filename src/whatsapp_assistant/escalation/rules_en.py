"""English escalation rules: the phrases that hand a conversation to the agent, and benign ones."""

from __future__ import annotations

from whatsapp_assistant.escalation.patterns import AMOUNT, RuleTable, any_of

_YOU = r"(?:you|u|ya|you guys|they|the (?:owners?|sellers?|landlords?|vendors?)|he|she)"
_TALK = r"(?:speak|talk|chat) (?:directly |personally )?(?:to|with)"
# Who a customer may talk to without asking for the agent: "I need to talk to my wife first".
_NOT_A_PERSON_REQUEST = (
    r"(?!(?:you|u|ya|me|us|my|our|his|her|their|them|him|it|each|the|a|an|your|family|wife|"
    r"husband|partner|bank|friends?|parents?|mum|mom|dad|boss|lawyer|solicitor)\b)"
)
_BAD = r"(?:terrible|awful|horrible|poor|bad|worst|shocking|appalling|pathetic|lousy)"
_MANY = r"(?:\d+|two|three|four|five|several|many|so many|a few)"

TABLE = RuleTable(
    language="en",
    rules={
        "human_request": (
            (
                "talk_to_person",
                rf"{_TALK} (?:a |an |some |the |your |real |actual |live )*"
                r"(?:human|person|people|agent|realtor|broker|manager|owner|someone|somebody|"
                r"anyone|anybody|staff|team|consultant)",
            ),
            ("talk_to_name", rf"{_TALK} {_NOT_A_PERSON_REQUEST}[a-z]+"),
            (
                "real_person",
                any_of(
                    r"(?:real|actual|live) (?:person|human|agent|people)",
                    r"human (?:agent|being|please)",
                    r"(?:want|need|prefer) (?:a |an )?human",
                    r"(?:a |real |actual )?(?:person|human|someone) (?:to )?"
                    r"(?:reply|answer|respond)",
                ),
            ),
            (
                "call_me",
                r"(?:call|ring|phone) me|give me a (?:call|ring)|contact me (?:by|on|via) phone",
            ),
            (
                "phone_call",
                any_of(
                    r"(?:have|get|book|schedule|arrange|set up) (?:a )?"
                    r"(?:quick |short |phone )?call",
                    r"call with",
                    r"(?:talk|speak|chat|discuss|call|reach|get|put) (?:\w+ ){0,3}on the phone",
                    r"on the phone with",
                    r"(?:can|could|may|shall) i (?:call|phone|ring) (?:you|u|the agent)",
                ),
            ),
            ("put_through", r"put me (?:through|in touch)|(?:get|put) me in (?:touch|contact)"),
            (
                "phone_number",
                any_of(
                    r"(?:your|the agent'?s|her|his) (?:phone|mobile|cell) (?:number|no)",
                    r"(?!(?:what|that|it|there|here|where|who|how|let)'s)"
                    r"[a-z]+'s (?:phone |mobile |cell |direct )?number",
                ),
            ),
            (
                "no_bot",
                any_of(
                    r"(?:don'?t|dont|do not) want (?:to (?:talk|chat|speak) (?:to|with) )?"
                    r"(?:a |an |the |this )?(?:bot|robot|machine|ai)",
                    r"stop the bot",
                ),
            ),
        ),
        "objection": (
            ("complain", r"complain\w*|rude|impolite|disrespectful"),
            (
                "bad_service",
                any_of(
                    rf"{_BAD} (?:service|agency|agent|experience|customer service|communication|"
                    r"follow.?up)",
                    r"(?:service|communication|experience|agency)(?: \w+){0,2} "
                    r"(?:terrible|awful|horrible|appalling|shocking|poor|bad|a joke|a disaster)",
                    r"worst \w+ ever",
                    r"(?:bad|negative|1.star|one.star) review",
                ),
            ),
            (
                "outrage",
                any_of(
                    r"ridiculous|unacceptable|outrageous|disgraceful|disgusting|unprofessional",
                    r"(?:a|this is a|it'?s a) (?:scam|joke|disgrace)",
                    r"(?:this|that|it) is (?:not|n'?t) "
                    r"(?:ok|okay|acceptable|right|fair|professional)",
                ),
            ),
            (
                "nobody_answers",
                any_of(
                    r"(?:nobody|no one|no-one|noone|none of you) (?:has |have |ever |even |is )*"
                    r"(?:answer|repl|respond|call|got back|get back|pick|came|show|told|tell|"
                    r"inform|warn|let me know)\w*",
                    r"(?:you|u|they) (?:guys )?(?:never|don'?t|dont|didn'?t|didnt|haven'?t|havent) "
                    r"(?:ever )?(?:answer|repl|respond|call(?:ed)? back|get back|got back|pick)\w*",
                    r"(?:you|they) (?:cancel+ed|stood me up)",
                    r"(?:you|you people|you guys|your (?:agency|team|office)) (?:are|is) "
                    r"(?:impossible|so hard|very hard) to (?:reach|contact|get hold of)",
                    r"never (?:again|use you again|work with you again)|still nothing",
                    r"(?:never|didn'?t|did not|didnt) (?:show(?:ed)? up|turn(?:ed)? up|show)",
                ),
            ),
            (
                "kept_waiting",
                any_of(
                    rf"waiting (?:for )?{_MANY} (?:days|weeks|hours)",
                    r"still (?:no|waiting for an?) (?:answer|reply|response)",
                    r"no (?:answer|reply|response) yet",
                    r"(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)) time (?:i|we)(?:'ve)? "
                    r"(?:ask|write|wrote|message|call|tr)\w*",
                    rf"(?:messaged|called|written|wrote|asked|emailed|texted|rang) (?:you )?"
                    rf"{_MANY} times",
                ),
            ),
            (
                "fed_up",
                any_of(
                    r"(?:very|really|so|extremely) (?:disappointed|frustrated|annoyed|upset|angry|"
                    r"unhappy)",
                    r"dissatisfied|fed up|sick of|waste of (?:my |our )?time",
                    r"not (?:happy|satisfied|pleased) (?:at all )?with",
                    r"treated (?:badly|poorly|like)",
                ),
            ),
        ),
        "negotiation": (
            (
                "would_they_take",
                rf"(?:would|will|could|do|does|did) {_YOU} (?:take|accept|consider|do|go for|"
                rf"agree to) (?:an? )?(?:offer (?:of )?)?{AMOUNT}",
            ),
            (
                "can_you_do",
                any_of(
                    rf"(?:can|could|would|will) {_YOU} (?:do|go|come down to|drop to|make it) "
                    rf"(?:it )?(?:for )?{AMOUNT}",
                    rf"{_YOU} (?:sell|let|rent) (?:it |me it |it to (?:me|us) )?for {AMOUNT}",
                    rf"(?:go|come) down to {AMOUNT}",
                ),
            ),
            (
                "come_down",
                any_of(
                    rf"(?:can|could|would|will) {_YOU} (?:come down|go lower|budge|drop it|"
                    r"reduce it|lower it)",
                    r"(?:price|rent) (?:go|come) down",
                    r"(?:lower|reduce|drop|bring down|come down on|knock \w+ off) "
                    r"(?:the |your |its )?(?:price|rent|asking)",
                    r"come down (?:a bit|a little|on (?:the )?price)",
                    r"knock(?: \S+)? off",
                ),
            ),
            (
                "make_offer",
                any_of(
                    r"(?:make|making|made|submit|put in|place|send) (?:an? |my |our )?"
                    r"(?:formal |cash |firm |final )?offer",
                    r"(?:my|our) (?:final |best |cash |max |maximum |top )?offer",
                    r"(?:lower|reduced) offer|counter.?offer\w*|cheeky (?:offer|bid)|too cheeky",
                    r"(?:i'?ll|i will|i'?d like to|we'?d like to|we'?ll) offer",
                    rf"offer(?:ing)? (?:you |them )?{AMOUNT}",
                ),
            ),
            (
                "discount",
                r"discount\w*|(?:price|rent) reduction|reduction (?:on|in|of) the (?:price|rent)",
            ),
            (
                "best_price",
                any_of(
                    r"(?:best|lowest|final) (?:price|deal)|bottom line",
                    r"(?:get|give|offer|make) (?:us |me )?a better (?:price|deal)",
                    rf"(?:lowest|least) {_YOU}(?:'?d| would| will| can)? (?:go|accept|take)",
                    rf"how low (?:can|would|will) {_YOU} go",
                ),
            ),
            (
                "negotiate",
                r"(?:let'?s|i want to|i'?d like to|we'?d like to|we want to|can we|could we) "
                r"negotiate",
            ),
            (
                "amount_proposal",
                any_of(
                    rf"(?:how|what) about {AMOUNT}",
                    rf"would {AMOUNT} (?:work|be (?:ok|okay|acceptable|enough))",
                    rf"(?:sign|close|commit)(?: \w+){{0,2}} (?:at|for) {AMOUNT}",
                    rf"(?:i'?ll|i will|we'?ll|we will|i'?d|we'?d|i would|we would) "
                    rf"(?:take|buy|rent|pay|give|offer) (?:it |you |them )?(?:for )?{AMOUNT}",
                    r"would (?:that|this) (?:work|be (?:ok|okay|acceptable)) (?:for|with) "
                    r"(?:them|the (?:owners?|sellers?|landlord))",
                    rf"tell (?:them|the (?:owners?|sellers?|landlord)) {AMOUNT}",
                    rf"{AMOUNT} and (?:it'?s a deal|we have a deal|we sign|i'?ll sign|we close)",
                ),
            ),
            (
                "final_word",
                r"not a (?:cent|penny|euro) more|take it or leave it|"
                rf"meet (?:me |us )?(?:halfway|in the middle|at {AMOUNT})|(?:below|under) "
                r"(?:the )?asking",
            ),
        ),
        "legal": (
            (
                "lawyer",
                r"lawyers?|solicitors?|attorneys?|conveyanc\w*|notar(?:y|ies)|licen[cs]es?",
            ),
            (
                "contract",
                r"contracts?|(?:rental|purchase|sale|sales|lease|tenancy|promissory) agreements?",
            ),
            (
                "purchase_tax",
                any_of(
                    r"stamp duty|capital gains|imt|itp|ajd",
                    r"(?:transfer|purchase|buying|acquisition) tax(?:es)?",
                    r"tax(?:es)?(?: \w+){0,4} (?:when|on|for) (?:the )?"
                    r"(?:buy|buying|purchas\w*|acquir\w*|selling|sale)",
                    r"(?:closing|completion|transaction|purchase|buying|buyer'?s) costs",
                ),
            ),
            ("is_it_legal", r"(?:il)?legal\w*"),
            (
                "deeds",
                any_of(
                    r"(?:title )?deeds?|land registry|title (?:search|check|insurance)",
                    r"power of attorney|escrow|liens?|encumbrances?",
                    r"debts? on the (?:property|house|flat|apartment)",
                ),
            ),
        ),
        "financing": (
            ("mortgage", r"mort?g?ages?"),
            (
                "loan",
                any_of(
                    r"loans?|lenders?|pre.?approv\w*|interest rates?|euribor|repayments?",
                    r"financing|financed|finance (?:it|the|this|that|a|my|our|options?|\d+)",
                    r"(?:get|getting|need|arrange|secure|obtain) finance",
                ),
            ),
            (
                "bank",
                any_of(
                    r"bank (?:loan|finance|financing|credit|approval|valuation|appraisal)",
                    r"banks? (?:lend|finance|give|offer|need|require|ask|want)\w*",
                    r"(?:work|partner)\w* with (?:any |a )?banks?",
                ),
            ),
        ),
    },
    benign=(
        (
            "price_negotiable",
            any_of(
                r"(?:is|are) (?:the )?(?:price|rent|asking price|it|that|this) (?:still )?"
                r"(?:negotiable|flexible)",
                r"negotiable|room (?:for|to) negotiat\w*|open to (?:negotiation|offers)",
                r"(?:do|would|will) (?:you|they|the owners?) (?:accept|take|consider) offers",
            ),
        ),
        (
            "lease_length",
            any_of(
                r"(?:minimum|min|shortest|maximum|max) "
                r"(?:lease|contract|stay|rental|tenancy|term|let)"
                r"(?: (?:length|period|term|duration))?",
                r"(?:lease|contract|tenancy) (?:length|duration|term|period)",
                r"how long is the (?:lease|contract|tenancy)",
                r"(?:\d+|one|two|six|twelve)[ -](?:month|year) (?:lease|contract|tenancy)",
                r"(?:lease|contract|tenancy) (?:is |for )?(?:\d+|one|two|six|twelve)[ -]?"
                r"(?:months?|years?)",
            ),
        ),
        (
            "own_contract",
            any_of(
                r"(?:my|our|current|existing) (?:current )?(?:rental |work |job |employment )?"
                r"(?:contract|lease|tenancy)(?: \w+){0,2} "
                r"(?:ends|expires|finishes|is up|runs out|ending|finishing|expiring)",
                r"(?:job|work|employment|phone|internet) contract",
            ),
        ),
        ("no_calls", r"(?:don'?t|dont|do not|no need to|never) (?:call|phone|ring) (?:me|us)"),
        ("credit_card", r"credit cards?"),
        ("annual_tax", r"(?:annual |yearly )?(?:council|property|municipal) tax(?:es)?"),
    ),
)
