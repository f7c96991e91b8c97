-- Argo CD health check for TableauFleet (tableau-operator.dev/v1alpha1).
-- Progressing until the operator has observed the current generation or while a wave rolls;
-- Degraded while a failed member halts the wave; Healthy when no rotation is pending.
local hs = {}
if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local ready = nil
local halted = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      ready = c
    elseif c.type == "Halted" then
      halted = c
    end
  end
end
if halted ~= nil and halted.status == "True" then
  hs.status = "Degraded"
  hs.message = halted.message or "Halted"
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ""
  return hs
end
hs.status = "Progressing"
if ready ~= nil and ready.message ~= nil then
  hs.message = ready.message
else
  hs.message = "Rolling"
end
return hs
