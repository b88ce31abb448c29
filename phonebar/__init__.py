"""The agent's PhoneBar (web app + WebRTC softphone, to come) and a headless pjsua2 agent."""
