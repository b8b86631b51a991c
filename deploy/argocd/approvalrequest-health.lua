-- Greenlight: the health of an ApprovalRequest for Argo CD (resource.customizations.health.greenlight.dev_ApprovalRequest).
-- Undecided (Pending, Escalated) is Progressing, so a sync wave waits; Approved is Healthy, so the next wave goes;
-- Denied or Expired is Degraded, so it never goes. The message is the decision, or whom the request waits for.
local health = { status = "Progressing", message = "waiting for Greenlight to evaluate the request" }
local status = obj.status
if status == nil or status.phase == nil then
  return health
end
-- A status written for an earlier spec says nothing about this one (spec is immutable, but be exact).
if obj.metadata.generation ~= nil and status.observedGeneration ~= nil
    and status.observedGeneration < obj.metadata.generation then
  return health
end

local function conditionMessage(kind)
  for _, condition in ipairs(status.conditions or {}) do
    if condition.type == kind then
      return condition.message
    end
  end
  return nil
end

local function decided()
  local decision = status.decision or {}
  local text = status.phase .. " by " .. (decision.decidedBy or "Greenlight")
  if decision.reason ~= nil and decision.reason ~= "" then
    text = text .. ": " .. decision.reason
  end
  return text
end

if status.phase == "Approved" then
  health.status = "Healthy"
  health.message = decided()
elseif status.phase == "Denied" or status.phase == "Expired" then
  health.status = "Degraded"
  health.message = decided()
elseif status.phase == "Escalated" then
  health.message = "Escalated: " .. (conditionMessage("Escalated") or "waiting for people")
else
  health.message = "Pending: " .. (conditionMessage("Decided") or "waiting for the policies")
end
return health
