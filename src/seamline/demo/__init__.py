"""The demo workspace a newcomer's first `seamline serve` starts with: a bank whose product systems each kept their
own customers, with web, app and call-center traffic, fed through the same paths users use."""
