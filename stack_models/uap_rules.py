"""The uap-core rules the useragent filter bundles, rebuilt from the ua-parser package's copy of later ones.

logstash-plugins/logstash-filter-useragent 3.3.5 build.gradle bundles ua-parser/uap-core v0.12.0's
regexes.yaml with one line patched (patchYaml: the Mac OS X rule's ".{1,50}" made lazy) and checks the
result's SHA-1 (verifyYaml: 5a8ea18a9c9153e83159b8662e3f6650fbca60a8). No ua-parser release on PyPI holds
v0.12.0: 0.15.x holds v0.15.0, the closest later tag (0.10.0 holds a v0.10.0, 649 rules apart; 0.16 and 0.18
hold v0.16.0 and v0.18.0, further off). v0.15.0 differs from v0.12.0 by the rules below (git diff v0.12.0
v0.15.0 -- regexes.yaml), each undone here, so the lists are v0.12.0's as patched, in its order.
"""

import re
from dataclasses import dataclass

from ua_parser import user_agent_parser

# v0.15.0's regex -> v0.12.0's, for the rules v0.15.0 rewrote (their replacements are unchanged); the Mac OS X
# one is the plugin's patched form.
_PLUGIN_FORMS = {
    r"\b(008|Altresium|Argus|BaiduMobaider|BoardReader|DNSGroup|DataparkSearch|EDI|Goodzer|Grub|INGRID|Infohelfer|LinkedInBot|LOOQ|Nutch|OgScrper|Pandora|PathDefender|Peew|PostPost|Steeler|Twitterbot|VSE|WebCrunch|WebZIP|Y!J-BR[A-Z]|YahooSeeker|envolk|sproose|wminer)/(\d+)(?:\.(\d+)|)(?:\.(\d+)|)":
    r"\b(008|Altresium|Argus|BaiduMobaider|BoardReader|DNSGroup|DataparkSearch|EDI|Goodzer|Grub|INGRID|Infohelfer|LinkedInBot|LOOQ|Nutch|OgScrper|PathDefender|Peew|PostPost|Steeler|Twitterbot|VSE|WebCrunch|WebZIP|Y!J-BR[A-Z]|YahooSeeker|envolk|sproose|wminer)/(\d+)(?:\.(\d+)|)(?:\.(\d+)|)",
    r"(Google-HTTP-Java-Client|Apache-HttpClient|PostmanRuntime|Go-http-client|scalaj-http|http%20client|Python-urllib|HttpMonitor|TLSProber|WinHTTP|JNLP|okhttp|aihttp|reqwest|axios|unirest-(?:java|python|ruby|nodejs|php|net))(?:[ /](\d+)(?:\.(\d+)|)(?:\.(\d+)|)|)":
    r"(Google-HTTP-Java-Client|Apache-HttpClient|Go-http-client|scalaj-http|http%20client|Python-urllib|HttpMonitor|TLSProber|WinHTTP|JNLP|okhttp|aihttp|reqwest|axios|unirest-(?:java|python|ruby|nodejs|php|net))(?:[ /](\d+)(?:\.(\d+)|)(?:\.(\d+)|)|)",
    r"^(S3 Browser) (\d+)[.-](\d+)[.-](\d+)(?:\s*https?://s3browser\.com|)": r"^(S3 Browser) (\d+)-(\d+)-(\d+)(?:\s*http://s3browser\.com|)",
    r"Mac OS X\s.{1,50}\s(\d+).(\d+).(\d+)": r"Mac OS X\s.{1,50}?\s(\d+).(\d+).(\d+)",
    r"(CPU[ +]OS|iPhone[ +]OS|CPU[ +]iPhone|CPU IPhone OS|CPU iPad OS)[ +]+(\d+)[_\.](\d+)(?:[_\.](\d+)|)":
    r"(CPU[ +]OS|iPhone[ +]OS|CPU[ +]iPhone|CPU IPhone OS)[ +]+(\d+)[_\.](\d+)(?:[_\.](\d+)|)",
    r"CFNetwork/1[01].{0,100} Darwin/19\.\d+": r"CFNetwork/11.{0,100} Darwin/(19)\.\d+",
    r"CFNetwork/.{0,100} Darwin/(20)\.\d+": r"CFNetwork/11.{0,100} Darwin/20\.0\.\d+",
    r"(watchOS)[/ ](\d+)\.(\d+)(?:\.(\d+)|)": r"(watchOS)/(\d+)\.(\d+)(?:\.(\d+)|)",
}
# The rules v0.15.0 added.
_ADDED_AFTER = frozenset({
    r"(minio-go)/v(\d+)\.(\d+)\.(\d+)", r"^(ureq)[/ ](\d+)\.(\d+).(\d+)", r"^(http\.rb)/(\d+)\.(\d+).(\d+)",
    r"^(GuzzleHttp)/(\d+)\.(\d+).(\d+)", r"^(grab)\b", r"(Transmit)/(\d+)\.(\d+)\.(\d+)", r"(Download Master)",
    r"\b(HTTrack) (\d+)\.(\d+)(?:[\.\-](\d+)|)", r"CFNetwork/11.{0,100} Darwin/19\.6\.\d+",
    r"CFNetwork/12.{0,100} Darwin/20\.1\.\d+", r"CFNetwork/12.{0,100} Darwin/20\.2\.\d+",
    r"CFNetwork/12.{0,100} Darwin/20\.3\.\d+", r"CFNetwork/12.{0,100} Darwin/20\.4\.\d+",
    r"; {0,2}([^;]{1,200}) Build/(HONOR|Honor)",
})


@dataclass(frozen=True)
class Rule:
    """One entry of regexes.yaml, with the replacements the plugin's Java parser reads (the rest it ignores:
    brand_replacement, model_replacement, os_v4_replacement)."""

    regex: str
    replacements: tuple[str | None, ...]  # family/os/device, then v1, v2 (and os v3)
    ignore_case: bool = False  # regex_flag: 'i' (DeviceParser.java, patternFromMap)

    def compiled(self) -> re.Pattern:
        # java.util.regex without flags: \d, \s, \w, \b and case folding are ASCII-only (Java 21, which
        # Logstash 9 bundles), as Python's re.ASCII makes them.
        return re.compile(self.regex, re.ASCII | (re.IGNORECASE if self.ignore_case else 0))


def _plugin_rules(parsers, replacements, ignore_case=lambda parser: False) -> list[Rule]:
    return [
        Rule(_PLUGIN_FORMS.get(parser.pattern, parser.pattern), tuple(getattr(parser, name) for name in replacements),
             ignore_case(parser))
        for parser in parsers if parser.pattern not in _ADDED_AFTER
    ]


USER_AGENT_RULES = _plugin_rules(user_agent_parser.USER_AGENT_PARSERS, ("family_replacement", "v1_replacement", "v2_replacement"))
OS_RULES = _plugin_rules(user_agent_parser.OS_PARSERS,
                         ("os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement"))
DEVICE_RULES = _plugin_rules(user_agent_parser.DEVICE_PARSERS, ("device_replacement",),
                             lambda parser: bool(parser.user_agent_re.flags & re.IGNORECASE))
