-- Argo CD health check for twelvefactor.dev/StatelessApp, from its kstatus conditions and observedGeneration.
-- Written for Lua 5.1 (Argo CD runs gopher-lua); `obj` is the live object.
local hs = {}

local function find(conditions, type)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function text(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil then
    return c.reason
  end
  return fallback
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local status = obj.status

if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report a status"
  return hs
end

-- A status written for an older spec says nothing about the current one.
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local conditions = status.conditions
local stalled = find(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = text(stalled, "Stalled")
  return hs
end

local paused = find(conditions, "Paused")
if paused ~= nil and paused.status == "True" then
  hs.status = "Suspended"
  hs.message = text(paused, "Paused")
  return hs
end

local reconciling = find(conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = text(reconciling, "Reconciling")
  return hs
end

local ready = find(conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  if status.summary ~= nil and status.summary ~= "" then
    hs.message = status.summary
  else
    hs.message = text(ready, "Ready")
  end
  return hs
end

hs.status = "Progressing"
hs.message = text(ready, "Waiting for the Ready condition")
return hs
