
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "public": {
          Tables: {
            "access_changes": {
                  Row: {
                    "created_at": string,"id": string,"project_id": string | null,"reason": string,"session_id": string | null,"team_id": string,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"id"?: string,"project_id"?: string | null,"reason": string,"session_id"?: string | null,"team_id": string,"user_id"?: string | null
                  }
                  Update: {
                    "created_at"?: string,"id"?: string,"project_id"?: string | null,"reason"?: string,"session_id"?: string | null,"team_id"?: string,"user_id"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"agents": {
                  Row: {
                    "created_at": string,"description": string | null,"id": string,"model": string | null,"name": string,"owner_id": string | null,"system_prompt": string,"team_id": string | null,"temperature": number | null,"tools": (string)[],"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"description"?: string | null,"id"?: string,"model"?: string | null,"name": string,"owner_id"?: string | null,"system_prompt": string,"team_id"?: string | null,"temperature"?: number | null,"tools"?: (string)[],"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"description"?: string | null,"id"?: string,"model"?: string | null,"name"?: string,"owner_id"?: string | null,"system_prompt"?: string,"team_id"?: string | null,"temperature"?: number | null,"tools"?: (string)[],"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "agents_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"api_keys": {
                  Row: {
                    "created_at": string,"expires_at": string | null,"id": string,"key_hash": string,"last_used_at": string | null,"name": string,"owner_id": string,"prefix": string,"project_ids": (string)[] | null,"revoked_at": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"expires_at"?: string | null,"id"?: string,"key_hash": string,"last_used_at"?: string | null,"name": string,"owner_id"?: string,"prefix": string,"project_ids"?: (string)[] | null,"revoked_at"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"expires_at"?: string | null,"id"?: string,"key_hash"?: string,"last_used_at"?: string | null,"name"?: string,"owner_id"?: string,"prefix"?: string,"project_ids"?: (string)[] | null,"revoked_at"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"api_usage": {
                  Row: {
                    "api_key_id": string | null,"completion_tokens": number,"created_at": string,"id": string,"kind": string,"message_id": string | null,"model": string,"project_id": string | null,"prompt_tokens": number,"session_id": string | null,"source": string,"team_id": string | null,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "api_key_id"?: string | null,"completion_tokens"?: number,"created_at"?: string,"id"?: string,"kind"?: string,"message_id"?: string | null,"model": string,"project_id"?: string | null,"prompt_tokens"?: number,"session_id"?: string | null,"source"?: string,"team_id"?: string | null,"user_id"?: string
                  }
                  Update: {
                    "api_key_id"?: string | null,"completion_tokens"?: number,"created_at"?: string,"id"?: string,"kind"?: string,"message_id"?: string | null,"model"?: string,"project_id"?: string | null,"prompt_tokens"?: number,"session_id"?: string | null,"source"?: string,"team_id"?: string | null,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "api_usage_api_key_id_fkey"
      columns: ["api_key_id"]
isOneToOne: false
      referencedRelation: "api_keys"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "api_usage_message_id_fkey"
      columns: ["message_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "api_usage_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "api_usage_session_id_fkey"
      columns: ["session_id"]
isOneToOne: false
      referencedRelation: "sessions"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "api_usage_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"audit_log": {
                  Row: {
                    "action": string,"actor_id": string | null,"created_at": string,"id": string,"new_values": Json | null,"old_values": Json | null,"record_id": string | null,"table_name": string,"team_id": string | null,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "action": string,"actor_id"?: string | null,"created_at"?: string,"id"?: string,"new_values"?: Json | null,"old_values"?: Json | null,"record_id"?: string | null,"table_name": string,"team_id"?: string | null,"user_id"?: string | null
                  }
                  Update: {
                    "action"?: string,"actor_id"?: string | null,"created_at"?: string,"id"?: string,"new_values"?: Json | null,"old_values"?: Json | null,"record_id"?: string | null,"table_name"?: string,"team_id"?: string | null,"user_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "audit_log_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"kb_active_models": {
                  Row: {
                    "embedding_model": string,"project_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "embedding_model": string,"project_id": string,"updated_at"?: string
                  }
                  Update: {
                    "embedding_model"?: string,"project_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "kb_active_models_project_id_fkey"
      columns: ["project_id"]
isOneToOne: true
      referencedRelation: "projects"
      referencedColumns: ["id"]
    }
                  ]
                },"kb_ann": {
                  Row: {
                    "chunk_id": string,"embedding": string,"embedding_dims": number,"embedding_model": string,"project_id": string,"source_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "chunk_id": string,"embedding": string,"embedding_dims": number,"embedding_model": string,"project_id": string,"source_id": string
                  }
                  Update: {
                    "chunk_id"?: string,"embedding"?: string,"embedding_dims"?: number,"embedding_model"?: string,"project_id"?: string,"source_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "kb_ann_chunk_id_fkey"
      columns: ["chunk_id"]
isOneToOne: true
      referencedRelation: "kb_chunks"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "kb_ann_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    }
                  ]
                },"kb_ann_pending": {
                  Row: {
                    "chunk_id": string,"embedding_model": string,"project_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "chunk_id": string,"embedding_model": string,"project_id": string
                  }
                  Update: {
                    "chunk_id"?: string,"embedding_model"?: string,"project_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "kb_ann_pending_chunk_id_fkey"
      columns: ["chunk_id"]
isOneToOne: true
      referencedRelation: "kb_chunks"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "kb_ann_pending_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    }
                  ]
                },"kb_chunks": {
                  Row: {
                    "content": string,"content_hash": string,"created_at": string,"embedding": string | null,"embedding_dims": number,"embedding_model": string,"end_line": number,"fts": unknown,"id": string,"ordinal": number,"project_id": string,"scope": string | null,"source_id": string,"start_line": number,"symbols": (string)[],"token_count": number
                  }
                  ComputedFields: never
                  Insert: {
                    "content": string,"content_hash": string,"created_at"?: string,"embedding"?: string | null,"embedding_dims": number,"embedding_model": string,"end_line": number,"fts"?: never,"id"?: string,"ordinal": number,"project_id": string,"scope"?: string | null,"source_id": string,"start_line": number,"symbols"?: (string)[],"token_count"?: number
                  }
                  Update: {
                    "content"?: string,"content_hash"?: string,"created_at"?: string,"embedding"?: string | null,"embedding_dims"?: number,"embedding_model"?: string,"end_line"?: number,"fts"?: never,"id"?: string,"ordinal"?: number,"project_id"?: string,"scope"?: string | null,"source_id"?: string,"start_line"?: number,"symbols"?: (string)[],"token_count"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "kb_chunks_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "kb_chunks_source_id_project_id_embedding_model_fkey"
      columns: ["source_id","project_id","embedding_model"]
isOneToOne: false
      referencedRelation: "kb_sources"
      referencedColumns: ["id","project_id","embedding_model"]
    }
                  ]
                },"kb_sources": {
                  Row: {
                    "chunk_count": number,"content_hash": string,"created_at": string,"embedding_dims": number,"embedding_model": string,"id": string,"indexed_at": string,"indexed_by": string | null,"kind": string,"language": string | null,"mtime_ms": number,"path_fts": unknown,"project_id": string,"size_bytes": number,"title": string | null,"updated_at": string,"uri": string
                  }
                  ComputedFields: never
                  Insert: {
                    "chunk_count"?: number,"content_hash": string,"created_at"?: string,"embedding_dims": number,"embedding_model": string,"id"?: string,"indexed_at"?: string,"indexed_by"?: string | null,"kind": string,"language"?: string | null,"mtime_ms"?: number,"path_fts"?: never,"project_id": string,"size_bytes"?: number,"title"?: string | null,"updated_at"?: string,"uri": string
                  }
                  Update: {
                    "chunk_count"?: number,"content_hash"?: string,"created_at"?: string,"embedding_dims"?: number,"embedding_model"?: string,"id"?: string,"indexed_at"?: string,"indexed_by"?: string | null,"kind"?: string,"language"?: string | null,"mtime_ms"?: number,"path_fts"?: never,"project_id"?: string,"size_bytes"?: number,"title"?: string | null,"updated_at"?: string,"uri"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "kb_sources_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    }
                  ]
                },"kb_stats": {
                  Row: {
                    "chunks": number,"embedding_model": string,"project_id": string,"tokens": number
                  }
                  ComputedFields: never
                  Insert: {
                    "chunks"?: number,"embedding_model": string,"project_id": string,"tokens"?: number
                  }
                  Update: {
                    "chunks"?: number,"embedding_model"?: string,"project_id"?: string,"tokens"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "kb_stats_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    }
                  ]
                },"kb_terms": {
                  Row: {
                    "df": number,"embedding_model": string,"project_id": string,"term": string
                  }
                  ComputedFields: never
                  Insert: {
                    "df": number,"embedding_model": string,"project_id": string,"term": string
                  }
                  Update: {
                    "df"?: number,"embedding_model"?: string,"project_id"?: string,"term"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "kb_terms_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    }
                  ]
                },"messages": {
                  Row: {
                    "author_id": string | null,"content": string,"created_at": string,"id": string,"metadata": NonNullable<Json>,"name": string | null,"role": string,"seq": number,"session_id": string,"status": string,"tool_call_id": string | null,"tool_calls": Json | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "author_id"?: string | null,"content"?: string,"created_at"?: string,"id"?: string,"metadata"?: NonNullable<Json>,"name"?: string | null,"role": string,"seq": number,"session_id": string,"status"?: string,"tool_call_id"?: string | null,"tool_calls"?: Json | null,"updated_at"?: string
                  }
                  Update: {
                    "author_id"?: string | null,"content"?: string,"created_at"?: string,"id"?: string,"metadata"?: NonNullable<Json>,"name"?: string | null,"role"?: string,"seq"?: number,"session_id"?: string,"status"?: string,"tool_call_id"?: string | null,"tool_calls"?: Json | null,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "messages_session_id_fkey"
      columns: ["session_id"]
isOneToOne: false
      referencedRelation: "sessions"
      referencedColumns: ["id"]
    }
                  ]
                },"model_gateways": {
                  Row: {
                    "allowed_models": (string)[],"chat_model": string | null,"created_at": string,"embedding_model": string | null,"enabled": boolean,"member_monthly_tokens": number | null,"member_requests_per_minute": number | null,"team_id": string,"team_monthly_tokens": number | null,"updated_at": string,"updated_by": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "allowed_models"?: (string)[],"chat_model"?: string | null,"created_at"?: string,"embedding_model"?: string | null,"enabled"?: boolean,"member_monthly_tokens"?: number | null,"member_requests_per_minute"?: number | null,"team_id": string,"team_monthly_tokens"?: number | null,"updated_at"?: string,"updated_by"?: string | null
                  }
                  Update: {
                    "allowed_models"?: (string)[],"chat_model"?: string | null,"created_at"?: string,"embedding_model"?: string | null,"enabled"?: boolean,"member_monthly_tokens"?: number | null,"member_requests_per_minute"?: number | null,"team_id"?: string,"team_monthly_tokens"?: number | null,"updated_at"?: string,"updated_by"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "model_gateways_team_id_fkey"
      columns: ["team_id"]
isOneToOne: true
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"profiles": {
                  Row: {
                    "avatar_url": string | null,"created_at": string,"display_name": string | null,"email": string | null,"id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "avatar_url"?: string | null,"created_at"?: string,"display_name"?: string | null,"email"?: string | null,"id": string,"updated_at"?: string
                  }
                  Update: {
                    "avatar_url"?: string | null,"created_at"?: string,"display_name"?: string | null,"email"?: string | null,"id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"project_folders": {
                  Row: {
                    "created_at": string,"project_id": string,"root_uri": string,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"project_id": string,"root_uri": string,"updated_at"?: string,"user_id"?: string
                  }
                  Update: {
                    "created_at"?: string,"project_id"?: string,"root_uri"?: string,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "project_folders_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    }
                  ]
                },"projects": {
                  Row: {
                    "created_at": string,"git_remote": string | null,"id": string,"name": string,"owner_id": string | null,"root_uri": string | null,"settings": NonNullable<Json>,"team_id": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"git_remote"?: string | null,"id"?: string,"name": string,"owner_id"?: string | null,"root_uri"?: string | null,"settings"?: NonNullable<Json>,"team_id"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"git_remote"?: string | null,"id"?: string,"name"?: string,"owner_id"?: string | null,"root_uri"?: string | null,"settings"?: NonNullable<Json>,"team_id"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "projects_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"sessions": {
                  Row: {
                    "agent_id": string | null,"archived_at": string | null,"created_at": string,"id": string,"last_message_at": string,"message_count": number,"owner_id": string | null,"project_id": string | null,"title": string,"updated_at": string,"visibility": string
                  }
                  ComputedFields: never
                  Insert: {
                    "agent_id"?: string | null,"archived_at"?: string | null,"created_at"?: string,"id"?: string,"last_message_at"?: string,"message_count"?: number,"owner_id"?: string | null,"project_id"?: string | null,"title"?: string,"updated_at"?: string,"visibility"?: string
                  }
                  Update: {
                    "agent_id"?: string | null,"archived_at"?: string | null,"created_at"?: string,"id"?: string,"last_message_at"?: string,"message_count"?: number,"owner_id"?: string | null,"project_id"?: string | null,"title"?: string,"updated_at"?: string,"visibility"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "sessions_agent_id_fkey"
      columns: ["agent_id"]
isOneToOne: false
      referencedRelation: "agents"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "sessions_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    }
                  ]
                },"tasks": {
                  Row: {
                    "created_at": string,"created_by": string | null,"description": string | null,"id": string,"project_id": string,"session_id": string | null,"status": string,"title": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"created_by"?: string | null,"description"?: string | null,"id"?: string,"project_id": string,"session_id"?: string | null,"status"?: string,"title": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"created_by"?: string | null,"description"?: string | null,"id"?: string,"project_id"?: string,"session_id"?: string | null,"status"?: string,"title"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "tasks_project_id_fkey"
      columns: ["project_id"]
isOneToOne: false
      referencedRelation: "projects"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "tasks_session_id_fkey"
      columns: ["session_id"]
isOneToOne: false
      referencedRelation: "sessions"
      referencedColumns: ["id"]
    }
                  ]
                },"team_invitations": {
                  Row: {
                    "accepted_at": string | null,"accepted_by": string | null,"created_at": string,"declined_at": string | null,"email": string,"expires_at": string,"id": string,"invited_by": string | null,"role": string,"team_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "accepted_at"?: string | null,"accepted_by"?: string | null,"created_at"?: string,"declined_at"?: string | null,"email": string,"expires_at"?: string,"id"?: string,"invited_by"?: string | null,"role"?: string,"team_id": string,"updated_at"?: string
                  }
                  Update: {
                    "accepted_at"?: string | null,"accepted_by"?: string | null,"created_at"?: string,"declined_at"?: string | null,"email"?: string,"expires_at"?: string,"id"?: string,"invited_by"?: string | null,"role"?: string,"team_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "team_invitations_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"team_members": {
                  Row: {
                    "created_at": string,"invited_by": string | null,"role": string,"team_id": string,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"invited_by"?: string | null,"role"?: string,"team_id": string,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"invited_by"?: string | null,"role"?: string,"team_id"?: string,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "team_members_team_id_fkey"
      columns: ["team_id"]
isOneToOne: false
      referencedRelation: "teams"
      referencedColumns: ["id"]
    }
                  ]
                },"teams": {
                  Row: {
                    "created_at": string,"created_by": string | null,"id": string,"name": string,"slug": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"created_by"?: string | null,"id"?: string,"name": string,"slug": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"created_by"?: string | null,"id"?: string,"name"?: string,"slug"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "accept_invitation":
{ Args: { "p_invitation_id": string }; Returns: {
              "created_at": string,
"invited_by": string | null,
"role": string,
"team_id": string,
"updated_at": string,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "team_members"
        isOneToOne: true
        isSetofReturn: false
      } },
"append_message":
{ Args: { "p_content": string,"p_metadata"?: Json,"p_name"?: string,"p_role": string,"p_session_id": string,"p_status"?: string,"p_tool_call_id"?: string,"p_tool_calls"?: Json }; Returns: {
              "author_id": string | null,
"content": string,
"created_at": string,
"id": string,
"metadata": NonNullable<Json>,
"name": string | null,
"role": string,
"seq": number,
"session_id": string,
"status": string,
"tool_call_id": string | null,
"tool_calls": Json | null,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: true
        isSetofReturn: false
      } },
"archive_session":
{ Args: { "p_archived"?: boolean,"p_session_id": string }; Returns: {
              "agent_id": string | null,
"archived_at": string | null,
"created_at": string,
"id": string,
"last_message_at": string,
"message_count": number,
"owner_id": string | null,
"project_id": string | null,
"title": string,
"updated_at": string,
"visibility": string
            }
                          SetofOptions: {
        from: "*"
        to: "sessions"
        isOneToOne: true
        isSetofReturn: false
      } },
"choose_project":
{ Args: { "p_project_id"?: string,"p_root_uri": string }; Returns: {
              "created_at": string,
"git_remote": string | null,
"id": string,
"name": string,
"owner_id": string | null,
"root_uri": string | null,
"settings": NonNullable<Json>,
"team_id": string | null,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "projects"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_agent":
{ Args: { "p_description"?: string,"p_model"?: string,"p_name": string,"p_system_prompt": string,"p_team_id"?: string,"p_temperature"?: number,"p_tools"?: (string)[] }; Returns: {
              "created_at": string,
"description": string | null,
"id": string,
"model": string | null,
"name": string,
"owner_id": string | null,
"system_prompt": string,
"team_id": string | null,
"temperature": number | null,
"tools": (string)[],
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "agents"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_api_key":
{ Args: { "p_expires_at"?: string,"p_name": string,"p_project_ids"?: (string)[] }; Returns: Record<string, unknown>
                           },
"create_session":
{ Args: { "p_agent_id"?: string,"p_project_id"?: string,"p_title"?: string,"p_visibility"?: string }; Returns: {
              "agent_id": string | null,
"archived_at": string | null,
"created_at": string,
"id": string,
"last_message_at": string,
"message_count": number,
"owner_id": string | null,
"project_id": string | null,
"title": string,
"updated_at": string,
"visibility": string
            }
                          SetofOptions: {
        from: "*"
        to: "sessions"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_task":
{ Args: { "p_description"?: string,"p_project_id": string,"p_session_id"?: string,"p_title": string }; Returns: {
              "created_at": string,
"created_by": string | null,
"description": string | null,
"id": string,
"project_id": string,
"session_id": string | null,
"status": string,
"title": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "tasks"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_team":
{ Args: { "p_name": string }; Returns: {
              "created_at": string,
"created_by": string | null,
"id": string,
"name": string,
"slug": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "teams"
        isOneToOne: true
        isSetofReturn: false
      } },
"current_profile":
{ Args: Record<PropertyKey, never>; Returns: {
              "avatar_url": string | null,
"created_at": string,
"display_name": string | null,
"email": string | null,
"id": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "profiles"
        isOneToOne: true
        isSetofReturn: false
      } },
"decline_invitation":
{ Args: { "p_invitation_id": string }; Returns: undefined
                           },
"delete_agent":
{ Args: { "p_agent_id": string }; Returns: undefined
                           },
"delete_my_account":
{ Args: Record<PropertyKey, never>; Returns: undefined
                           },
"delete_session":
{ Args: { "p_session_id": string }; Returns: undefined
                           },
"ensure_project":
{ Args: { "p_git_remote"?: string,"p_name": string,"p_personal"?: boolean,"p_root_uri": string,"p_team_id"?: string }; Returns: {
              "created_at": string,
"git_remote": string | null,
"id": string,
"name": string,
"owner_id": string | null,
"root_uri": string | null,
"settings": NonNullable<Json>,
"team_id": string | null,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "projects"
        isOneToOne: true
        isSetofReturn: false
      } },
"fail_streaming_messages":
{ Args: { "p_reason"?: string,"p_stale_after_seconds"?: number }; Returns: number
                           },
"get_model_gateway":
{ Args: { "p_project_id"?: string,"p_team_id"?: string }; Returns: {
              "allowed_models": (string)[],
"chat_model": string | null,
"created_at": string,
"embedding_model": string | null,
"enabled": boolean,
"member_monthly_tokens": number | null,
"member_requests_per_minute": number | null,
"team_id": string,
"team_monthly_tokens": number | null,
"updated_at": string,
"updated_by": string | null
            }[]
                          SetofOptions: {
        from: "*"
        to: "model_gateways"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_session":
{ Args: { "p_session_id": string }; Returns: {
              "agent_id": string | null,
"archived_at": string | null,
"created_at": string,
"id": string,
"last_message_at": string,
"message_count": number,
"owner_id": string | null,
"project_id": string | null,
"title": string,
"updated_at": string,
"visibility": string
            }
                          SetofOptions: {
        from: "*"
        to: "sessions"
        isOneToOne: true
        isSetofReturn: false
      } },
"invite_member":
{ Args: { "p_email": string,"p_role"?: string,"p_team_id": string }; Returns: {
              "accepted_at": string | null,
"accepted_by": string | null,
"created_at": string,
"declined_at": string | null,
"email": string,
"expires_at": string,
"id": string,
"invited_by": string | null,
"role": string,
"team_id": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "team_invitations"
        isOneToOne: true
        isSetofReturn: false
      } },
"kb_activate_model":
{ Args: { "p_embedding_model": string,"p_project_id": string }; Returns: string
                           },
"kb_active_model":
{ Args: { "p_project_id": string }; Returns: string
                           },
"kb_delete_model":
{ Args: { "p_embedding_model": string,"p_project_id": string }; Returns: number
                           },
"kb_delete_sources":
{ Args: { "p_embedding_model": string,"p_kind"?: string,"p_project_id": string,"p_uris": (string)[] }; Returns: number
                           },
"kb_embeddings_by_hash":
{ Args: { "p_embedding_model": string,"p_hashes": (string)[],"p_project_id": string }; Returns: {
              "content_hash": string,"embedding": string
            }[]
                           },
"kb_list_sources":
{ Args: { "p_embedding_model": string,"p_kind"?: string,"p_project_id": string }; Returns: {
              "chunk_count": number,"content_hash": string,"id": string,"indexed_at": string,"kind": string,"mtime_ms": number,"size_bytes": number,"uri": string
            }[]
                           },
"kb_pending_vectors":
{ Args: { "p_project_id": string }; Returns: number
                           },
"kb_publish_vectors":
{ Args: { "p_limit"?: number,"p_project_id": string }; Returns: number
                           },
"kb_search":
{ Args: { "p_embedding_model": string,"p_kind"?: string,"p_language"?: string,"p_limit"?: number,"p_min_similarity"?: number,"p_path_glob"?: string,"p_path_prefix"?: string,"p_project_id": string,"p_query": string,"p_query_embedding": string }; Returns: {
              "chunk_id": string,"content": string,"end_line": number,"fts_rank": number,"kind": string,"language": string,"scope": string,"score": number,"source_id": string,"start_line": number,"symbols": (string)[],"title": string,"uri": string,"vector_rank": number
            }[]
                           },
"kb_source_chunks":
{ Args: { "p_embedding_model": string,"p_kinds": (string)[],"p_project_id": string }; Returns: {
              "chunks": Json,"content_hash": string,"kind": string,"language": string,"mtime_ms": number,"size_bytes": number,"source_id": string,"title": string,"uri": string
            }[]
                           },
"kb_status":
{ Args: { "p_project_id": string }; Returns: {
              "chunks": number,"embedding_dims": number,"embedding_model": string,"kind": string,"last_indexed_at": string,"sources": number
            }[]
                           },
"kb_touch_sources":
{ Args: { "p_embedding_model": string,"p_items": Json,"p_project_id": string }; Returns: number
                           },
"kb_upsert_sources":
{ Args: { "p_project_id": string,"p_sources": Json }; Returns: number
                           },
"leave_team":
{ Args: { "p_team_id": string }; Returns: undefined
                           },
"list_agents":
{ Args: { "p_project_id"?: string }; Returns: {
              "created_at": string,
"description": string | null,
"id": string,
"model": string | null,
"name": string,
"owner_id": string | null,
"system_prompt": string,
"team_id": string | null,
"temperature": number | null,
"tools": (string)[],
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "agents"
        isOneToOne: false
        isSetofReturn: true
      } },
"list_api_keys":
{ Args: Record<PropertyKey, never>; Returns: {
              "created_at": string,"expires_at": string,"id": string,"last_used_at": string,"name": string,"prefix": string,"project_ids": (string)[],"revoked_at": string,"use_count": number
            }[]
                           },
"list_audit_log":
{ Args: { "p_before"?: string,"p_before_id"?: string,"p_limit"?: number,"p_team_id": string }; Returns: {
              "action": string,
"actor_id": string | null,
"created_at": string,
"id": string,
"new_values": Json | null,
"old_values": Json | null,
"record_id": string | null,
"table_name": string,
"team_id": string | null,
"user_id": string | null
            }[]
                          SetofOptions: {
        from: "*"
        to: "audit_log"
        isOneToOne: false
        isSetofReturn: true
      } },
"list_invitations":
{ Args: { "p_team_id"?: string }; Returns: {
              "accepted_at": string | null,
"accepted_by": string | null,
"created_at": string,
"declined_at": string | null,
"email": string,
"expires_at": string,
"id": string,
"invited_by": string | null,
"role": string,
"team_id": string,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "team_invitations"
        isOneToOne: false
        isSetofReturn: true
      } },
"list_messages":
{ Args: { "p_after_seq"?: number,"p_limit"?: number,"p_session_id": string }; Returns: {
              "author_id": string | null,
"content": string,
"created_at": string,
"id": string,
"metadata": NonNullable<Json>,
"name": string | null,
"role": string,
"seq": number,
"session_id": string,
"status": string,
"tool_call_id": string | null,
"tool_calls": Json | null,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: false
        isSetofReturn: true
      } },
"list_my_invitations":
{ Args: Record<PropertyKey, never>; Returns: {
              "created_at": string,"expires_at": string,"id": string,"invited_by": string,"inviter_email": string,"inviter_name": string,"role": string,"team_id": string,"team_name": string
            }[]
                           },
"list_project_candidates":
{ Args: { "p_git_remote": string }; Returns: {
              "project_id": string,"project_name": string,"team_id": string,"team_name": string
            }[]
                           },
"list_projects":
{ Args: Record<PropertyKey, never>; Returns: {
              "created_at": string,
"git_remote": string | null,
"id": string,
"name": string,
"owner_id": string | null,
"root_uri": string | null,
"settings": NonNullable<Json>,
"team_id": string | null,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "projects"
        isOneToOne: false
        isSetofReturn: true
      } },
"list_sessions":
{ Args: { "p_before"?: string,"p_include_archived"?: boolean,"p_limit"?: number,"p_project_id"?: string }; Returns: {
              "agent_id": string | null,
"archived_at": string | null,
"created_at": string,
"id": string,
"last_message_at": string,
"message_count": number,
"owner_id": string | null,
"project_id": string | null,
"title": string,
"updated_at": string,
"visibility": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "sessions"
        isOneToOne: false
        isSetofReturn: true
      } },
"list_tasks":
{ Args: { "p_project_id": string,"p_status"?: string }; Returns: {
              "created_at": string,
"created_by": string | null,
"description": string | null,
"id": string,
"project_id": string,
"session_id": string | null,
"status": string,
"title": string,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "tasks"
        isOneToOne: false
        isSetofReturn: true
      } },
"list_team_members":
{ Args: { "p_team_id": string }; Returns: {
              "created_at": string,"display_name": string,"email": string,"role": string,"user_id": string
            }[]
                           },
"list_teams":
{ Args: Record<PropertyKey, never>; Returns: {
              "created_at": string,"id": string,"name": string,"role": string,"slug": string
            }[]
                           },
"model_gateway_admit":
{ Args: { "p_kind": string,"p_model": string,"p_team_id": string,"p_user_id": string }; Returns: {
              "allowed_models": (string)[],"decision": string,"retry_after_seconds": number,"usage_id": string
            }[]
                           },
"model_gateway_settle":
{ Args: { "p_completion_tokens": number,"p_prompt_tokens": number,"p_usage_id": string }; Returns: undefined
                           },
"model_gateway_usage":
{ Args: { "p_since"?: string,"p_team_id": string }; Returns: {
              "completion_tokens": number,"display_name": string,"email": string,"kind": string,"model": string,"prompt_tokens": number,"requests": number,"user_id": string
            }[]
                           },
"record_usage":
{ Args: { "p_completion_tokens": number,"p_kind"?: string,"p_message_id"?: string,"p_model": string,"p_prompt_tokens": number,"p_session_id"?: string }; Returns: {
              "api_key_id": string | null,
"completion_tokens": number,
"created_at": string,
"id": string,
"kind": string,
"message_id": string | null,
"model": string,
"project_id": string | null,
"prompt_tokens": number,
"session_id": string | null,
"source": string,
"team_id": string | null,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "api_usage"
        isOneToOne: true
        isSetofReturn: false
      } },
"remove_team_member":
{ Args: { "p_team_id": string,"p_user_id": string }; Returns: undefined
                           },
"rename_session":
{ Args: { "p_session_id": string,"p_title": string }; Returns: {
              "agent_id": string | null,
"archived_at": string | null,
"created_at": string,
"id": string,
"last_message_at": string,
"message_count": number,
"owner_id": string | null,
"project_id": string | null,
"title": string,
"updated_at": string,
"visibility": string
            }
                          SetofOptions: {
        from: "*"
        to: "sessions"
        isOneToOne: true
        isSetofReturn: false
      } },
"rename_team":
{ Args: { "p_name": string,"p_team_id": string }; Returns: {
              "created_at": string,
"created_by": string | null,
"id": string,
"name": string,
"slug": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "teams"
        isOneToOne: true
        isSetofReturn: false
      } },
"revoke_api_key":
{ Args: { "p_key_id": string }; Returns: undefined
                           },
"schema_version":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"session_access":
{ Args: { "p_session_id": string }; Returns: string
                           },
"set_member_role":
{ Args: { "p_role": string,"p_team_id": string,"p_user_id": string }; Returns: {
              "created_at": string,
"invited_by": string | null,
"role": string,
"team_id": string,
"updated_at": string,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "team_members"
        isOneToOne: true
        isSetofReturn: false
      } },
"set_model_gateway":
{ Args: { "p_allowed_models": (string)[],"p_chat_model"?: string,"p_embedding_model"?: string,"p_enabled"?: boolean,"p_member_monthly_tokens"?: number,"p_member_requests_per_minute"?: number,"p_team_id": string,"p_team_monthly_tokens"?: number }; Returns: {
              "allowed_models": (string)[],
"chat_model": string | null,
"created_at": string,
"embedding_model": string | null,
"enabled": boolean,
"member_monthly_tokens": number | null,
"member_requests_per_minute": number | null,
"team_id": string,
"team_monthly_tokens": number | null,
"updated_at": string,
"updated_by": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "model_gateways"
        isOneToOne: true
        isSetofReturn: false
      } },
"set_project_team":
{ Args: { "p_project_id": string,"p_team_id": string }; Returns: {
              "created_at": string,
"git_remote": string | null,
"id": string,
"name": string,
"owner_id": string | null,
"root_uri": string | null,
"settings": NonNullable<Json>,
"team_id": string | null,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "projects"
        isOneToOne: true
        isSetofReturn: false
      } },
"share_session":
{ Args: { "p_session_id": string,"p_visibility": string }; Returns: {
              "agent_id": string | null,
"archived_at": string | null,
"created_at": string,
"id": string,
"last_message_at": string,
"message_count": number,
"owner_id": string | null,
"project_id": string | null,
"title": string,
"updated_at": string,
"visibility": string
            }
                          SetofOptions: {
        from: "*"
        to: "sessions"
        isOneToOne: true
        isSetofReturn: false
      } },
"update_agent":
{ Args: { "p_agent_id": string,"p_patch": Json }; Returns: {
              "created_at": string,
"description": string | null,
"id": string,
"model": string | null,
"name": string,
"owner_id": string | null,
"system_prompt": string,
"team_id": string | null,
"temperature": number | null,
"tools": (string)[],
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "agents"
        isOneToOne: true
        isSetofReturn: false
      } },
"update_message":
{ Args: { "p_content"?: string,"p_message_id": string,"p_metadata"?: Json,"p_status"?: string }; Returns: {
              "author_id": string | null,
"content": string,
"created_at": string,
"id": string,
"metadata": NonNullable<Json>,
"name": string | null,
"role": string,
"seq": number,
"session_id": string,
"status": string,
"tool_call_id": string | null,
"tool_calls": Json | null,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: true
        isSetofReturn: false
      } },
"update_task":
{ Args: { "p_patch": Json,"p_task_id": string }; Returns: {
              "created_at": string,
"created_by": string | null,
"description": string | null,
"id": string,
"project_id": string,
"session_id": string | null,
"status": string,
"title": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "tasks"
        isOneToOne: true
        isSetofReturn: false
      } },
"withdraw_invitation":
{ Args: { "p_invitation_id": string }; Returns: undefined
                           }
          }
          Enums: {
            [_ in never]: never
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "public": {
          Enums: {
            
          }
        }
} as const
